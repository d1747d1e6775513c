import type { Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { createCodecServer, embeddedCodecEndpoint } from '../../api/codec-server';
import { connectClient } from '../../common/temporal';
import { freePort, startDevServer, type RunningServer } from '../../scripts/temporal';
import { TEST_SECRET } from '../api/support';
import { testCodec } from '../support/payload-keys';
import { launchChromium, screenshot } from './browser';

/**
 * Issue 16 item 1, as an operator meets it: the Temporal Web UI of a dev server started the
 * way `npm start` starts it (its codec endpoint at the API's /codec, the API granting that
 * UI's loopback calls), opened in Chromium, shows a case's input decoded. No worker runs:
 * the UI shows the input as soon as the case is started.
 */
let server: RunningServer;
let api: Server;
let client: Client;
let browser: Browser;

beforeAll(async () => {
  const apiPort = await freePort();
  const endpoint = embeddedCodecEndpoint({ production: false, API_HOST: '127.0.0.1', API_PORT: apiPort });
  expect(typeof endpoint).toBe('string');
  server = await startDevServer({ ui: true, uiCodecEndpoint: endpoint as string });
  client = await connectClient(server.address, 'default', testCodec());
  const codec = createCodecServer({ codec: testCodec(), allowedOrigin: new URL(server.uiUrl!).origin, production: false, embeddedWebUi: true });
  const logDir = mkdtempSync(join(tmpdir(), 'web-ui-codec-'));
  const app = createApp({
    client,
    taskQueue: 'web-ui-codec',
    auth: { mode: 'secret', secret: TEST_SECRET },
    audit: join(logDir, 'audit.log'),
    logger: pino({ level: 'silent' }),
    codec,
  });
  api = await new Promise((ready) => {
    const listening = app.listen(apiPort, '127.0.0.1', () => ready(listening));
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((done) => (api ? api.close(done) : done(undefined)));
  await client?.connection.close();
  await server?.stop();
});

describe('the Temporal Web UI of the embedded default', () => {
  it("shows a case's input decoded through the API's codec route, not as ciphertext", async () => {
    const marker = `C-${Date.now()}`;
    const referralId = `REF-WEBUI-${Date.now().toString(36).toUpperCase()}`;
    const handle = await client.workflow.start('referralWorkflow', {
      workflowId: `referral-${referralId}`,
      taskQueue: 'web-ui-codec',
      args: [{ referralId, receivedAt: new Date().toISOString(), referrerType: 'education', childProtectionConcern: false, children: [{ childRef: marker }] }],
    });
    try {
      const page = await browser.newPage();
      const decodes: number[] = [];
      page.on('response', (response) => {
        if (response.url().endsWith('/codec/decode')) decodes.push(response.status());
      });
      await page.goto(`${server.uiUrl}/namespaces/default/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/history`);
      await expect.poll(() => page.locator('body').innerText(), { timeout: 30_000 }).toContain(marker);
      await screenshot(page, 'web-ui-decoded-input');
      expect(decodes.length).toBeGreaterThan(0);
      expect(decodes.every((status) => status === 200)).toBe(true);
      // What it decoded was ciphertext on the server: the page shows no encrypted encoding.
      expect(await page.locator('body').innerText()).not.toContain('binary/encrypted');
      await page.close();
    } finally {
      await handle.terminate('test done');
    }
  });
});
