import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP receiver for the outbound webhook on loopback: it records what arrives and,
 * while `down` says so, answers 500 (a police or case-system receiver that is out).
 */
export class WebhookReceiver {
  readonly deliveries: Array<{ idempotencyKey: string; body: Record<string, unknown> }> = [];
  /** Answers 500 to deliveries that match (all of them when true). */
  down: boolean | ((body: Record<string, unknown>) => boolean) = false;
  refused = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => {
      const receiver = holder.receiver;
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        const down = typeof receiver!.down === 'function' ? receiver!.down(body) : receiver!.down;
        if (down) {
          receiver!.refused += 1;
          res.writeHead(500).end();
          return;
        }
        receiver!.deliveries.push({ idempotencyKey: String(req.headers['idempotency-key']), body });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await new Promise((ready) => server.once('listening', ready));
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/outbound`);
    return holder.receiver;
  }

  /** Deliveries for one workflow, each body once per idempotency key. */
  for(workflowId: string): Array<Record<string, unknown>> {
    return this.deliveries.filter((delivery) => delivery.body.workflowId === workflowId).map((delivery) => delivery.body);
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server.close(done));
  }
}
