// Stand-in for the network between a control plane and its nodes. A real kube-apiserver reaches a
// node's kubelet (for exec, logs and port-forward: `pods/portforward`) at the node's address, and
// can be told to send that "cluster" traffic through a proxy (kube-apiserver
// --egress-selector-config-file, EgressSelectorConfiguration `cluster`, HTTPConnect over a Unix
// socket — what konnectivity does on managed clusters). The sandbox's node addresses (EKS-looking
// 10.0.x.y, host names) lead nowhere, so each API server sends its cluster traffic here, and this
// proxy plays the VPC: a CONNECT to any host on the kubelet port reaches the cluster's kwok, which
// serves the kubelet API of every fake node (controllers.ts). Anything else — a pod IP, a service IP:
// the service and pod `proxy` subresources — is refused (503), because no container runs in the
// sandbox. It listens on a Unix socket only, never on a TCP port.
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';

export interface ClusterNetwork {
  /** The Unix socket the API server's egress selector dials. */
  socketPath: string;
  /** Connections routed, by destination ("host:port" → "127.0.0.1:port" or "refused"). */
  readonly log: { target: string; routed: string }[];
  close(): Promise<void>;
}

/** The EgressSelectorConfiguration that sends an API server's cluster traffic through `socketPath`. */
export function egressSelectorConfig(socketPath: string): string {
  return `apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
  - name: cluster
    connection:
      proxyProtocol: HTTPConnect
      transport:
        uds:
          udsName: ${socketPath}
`;
}

/** Most bytes of a CONNECT request head we read before giving up on it. */
const MAX_HEAD = 8192;

export async function startClusterNetwork(socketPath: string, kubeletPort: number): Promise<ClusterNetwork> {
  if (existsSync(socketPath)) rmSync(socketPath);
  const log: ClusterNetwork['log'] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD) client.destroy();
        return;
      }
      client.off('data', onData);
      const rest = head.subarray(end + 4);
      const m = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(head.subarray(0, end + 2).toString('latin1'));
      const target = m ? `${m[1]}:${m[2]}` : '(not a CONNECT)';
      if (!m || Number(m[2]) !== kubeletPort) {
        log.push({ target, routed: 'refused' });
        client.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const upstream = net.connect(kubeletPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.once('connect', () => {
        log.push({ target, routed: `127.0.0.1:${kubeletPort}` });
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => {
        if (!client.writableEnded && upstream.connecting) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  server.unref();
  return {
    socketPath,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
