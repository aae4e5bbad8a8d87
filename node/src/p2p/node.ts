/**
 * The member node's libp2p network: TCP + noise + yamux, a connection gater that admits only peers
 * registered on chain for an ACTIVE member, the exchange protocol handler, and the client that fetches from
 * other members' nodes. A Startable with explicit collaborators (js-libp2p habit): chain views, the keys, the
 * material source, the use log and a verifier are handed in; nothing is looked up globally.
 *
 * Start order: member directory (one `getMembers()`), libp2p (listen), exchange handler, then publish this
 * node's peer id and listen multiaddrs with `setPeers` when they differ from the registered ones.
 */
import { createLibp2p, type Libp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@libp2p/yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { peerIdFromString } from "@libp2p/peer-id";
import type { PrivateKey, Stream } from "@libp2p/interface";
import type { ProofBundle, VerificationResult } from "@tongban/sdk";
import type { Startable } from "../core/service.js";
import type { Logger } from "../core/log.js";
import type { UseLog } from "../audit/use-log.js";
import type { AuthorisationsView, ChainWriter, ConsortiumView } from "./chain.js";
import { MemberDirectory, type MemberDirectoryInit } from "./members.js";
import { GrantGate } from "./grants.js";
import type { MaterialSource } from "./materials.js";
import { ExchangeClient, ExchangeServer, type ExchangeServerInit, type FetchParams, type FetchResult } from "./exchange.js";
import { EXCHANGE_PROTOCOLS, domainSeparator } from "./messages.js";

export interface P2PNodeComponents {
  /** this member's id (bytes32 hex) */
  memberId: string;
  /** the member's signing key (0x hex): signs exchange requests */
  signingKey: string;
  /** libp2p identity (see peer-key.ts) */
  peerKey: PrivateKey;
  chainId: number;
  /** the authorisations contract: EIP-712 verifyingContract of the exchange and `checkGrant` */
  authorisations: AuthorisationsView;
  consortium: ConsortiumView;
  /** publishes peers (setPeers); absent = do not publish */
  writer?: Pick<ChainWriter, "setPeers">;
  materials: MaterialSource;
  useLog: UseLog;
  verify(content: Uint8Array, bundle: ProofBundle): Promise<VerificationResult>;
  logger?: Logger;
}

export interface P2PNodeInit {
  /** listen multiaddrs (default /ip4/127.0.0.1/tcp/0) */
  listen?: string[];
  /** multiaddrs to publish instead of the listen ones */
  announce?: string[];
  directory?: MemberDirectoryInit;
  server?: ExchangeServerInit;
  /** reuse a checkGrant answer this long, ms (default 0; bounded and epoch-checked, see grants.ts) */
  grantCacheMs?: number;
  /** most checkGrant answers kept (default 100,000) */
  grantCacheEntries?: number;
  /** inbound streams per connection for the exchange protocol (default 1,024) */
  maxStreams?: number;
  /**
   * exchange versions this node serves and asks for, newest first (default EXCHANGE_PROTOCOLS: 1.1.0, 1.0.0;
   * tests run a 1.0-only node to check the two versions meet)
   */
  protocols?: string[];
  /** sign the requests of one event-loop turn as one batch where the custodian speaks 1.1 (default true) */
  batchSign?: boolean;
}

export class P2PNode implements Startable {
  readonly #c: P2PNodeComponents;
  readonly #init: P2PNodeInit;
  readonly directory: MemberDirectory;
  readonly gate: GrantGate;
  readonly server: ExchangeServer;
  readonly client: ExchangeClient;
  #libp2p: Libp2p | undefined;
  /** inbound connections refused by the gater (metrics, tests) */
  refusedPeers = 0;

  constructor(components: P2PNodeComponents, init: P2PNodeInit = {}) {
    this.#c = components;
    this.#init = init;
    const memberId = components.memberId.toLowerCase();
    const domain = domainSeparator({ chainId: components.chainId, verifyingContract: components.authorisations.address });
    this.directory = new MemberDirectory({ consortium: components.consortium, logger: components.logger }, init.directory);
    this.gate = new GrantGate({ view: components.authorisations, useLog: components.useLog }, { cacheMs: init.grantCacheMs, cacheEntries: init.grantCacheEntries });
    this.server = new ExchangeServer(
      { memberId, domain, directory: this.directory, grants: this.gate, materials: components.materials, useLog: components.useLog, logger: components.logger },
      init.server,
    );
    this.client = new ExchangeClient({
      memberId,
      privateKey: Buffer.from(components.signingKey.replace(/^0x/, ""), "hex"),
      domain,
      directory: this.directory,
      useLog: components.useLog,
      verify: components.verify,
      logger: components.logger,
      openStream: (addrs, signal) => this.#open(addrs, signal),
    }, { batchSign: init.batchSign });
  }

  get libp2p(): Libp2p {
    if (!this.#libp2p) throw new Error("p2p node is not started");
    return this.#libp2p;
  }
  get peerId(): string {
    return this.libp2p.peerId.toString();
  }
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  async start(): Promise<void> {
    if (this.#libp2p) return;
    await this.directory.start();
    const dir = this.directory;
    const deny = (peer: { toString(): string }): boolean => {
      if (dir.isActivePeer(peer.toString())) return false;
      this.refusedPeers++;
      void dir.refreshSoon();
      return true;
    };
    this.#libp2p = await createLibp2p({
      privateKey: this.#c.peerKey,
      addresses: { listen: this.#init.listen ?? ["/ip4/127.0.0.1/tcp/0"], ...(this.#init.announce ? { announce: this.#init.announce } : {}) },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: {
        denyDialPeer: (peerId) => !dir.isActivePeer(peerId.toString()),
        denyInboundEncryptedConnection: (peerId) => deny(peerId),
        denyOutboundEncryptedConnection: (peerId) => deny(peerId),
      },
    });
    const max = this.#init.maxStreams ?? 1024;
    await this.#libp2p.handle(this.#protocols(), this.server.handler, { maxInboundStreams: max, maxOutboundStreams: max });
    dir.events.on("peers-revoked", (peers: string[]) => {
      for (const p of peers) void this.#libp2p?.hangUp(peerIdFromString(p)).catch(() => undefined);
    });
    await this.publishPeers();
  }

  /** Register this node's peer id and multiaddrs on chain if they differ from the registered ones. */
  async publishPeers(): Promise<boolean> {
    if (!this.#c.writer) return false;
    const me = this.directory.member(this.#c.memberId);
    const peerIds = [this.peerId];
    const addrs = this.#init.announce ?? this.multiaddrs();
    if (me && me.peerIds.join() === peerIds.join() && me.multiaddrs.join() === addrs.join()) return false;
    await this.#c.writer.setPeers(peerIds, addrs);
    await this.directory.refresh();
    this.#c.logger?.info({ peerId: this.peerId, multiaddrs: addrs }, "peers published on chain");
    return true;
  }

  #protocols(): string[] {
    return this.#init.protocols ?? [...EXCHANGE_PROTOCOLS];
  }

  async #open(addrs: string[], signal: AbortSignal): Promise<Stream> {
    const mas = addrs.map((a) => multiaddr(a));
    return this.libp2p.dialProtocol(mas, this.#protocols(), { signal, maxOutboundStreams: this.#init.maxStreams ?? 1024 });
  }

  /** Obtain a material from another member's node (see ExchangeClient.fetch). */
  fetch(p: FetchParams): Promise<FetchResult> {
    return this.client.fetch(p);
  }

  async stop(): Promise<void> {
    await this.client.close().catch(() => undefined);
    await this.directory.stop();
    await this.#libp2p?.stop();
    this.#libp2p = undefined;
  }
}
