import express from 'express';
import type { AddressInfo } from 'node:net';
import { createPrototypedServer } from './express-server.js';

describe('createPrototypedServer', () => {
  it("builds each request and response on Express's prototypes before Express sees them, and Express works on them", async () => {
    const app = express();
    app.get('/echo', (req, res) => {
      res.status(201).json({ query: req.query, header: req.get('x-probe'), path: req.path });
    });
    const server = createPrototypedServer(app);
    const born: boolean[] = [];
    // Runs before Express's own listener: what Node built, before Express's setPrototypeOf.
    server.prependListener('request', (req, res) => {
      born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/echo?a=${i}`, { headers: { 'x-probe': 'yes' } });
        expect(res.status).toBe(201);
        expect(await res.json()).toEqual({ query: { a: String(i) }, header: 'yes', path: '/echo' });
      }
      expect(born).toEqual([true, true, true]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
