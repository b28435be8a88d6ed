import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpTransport } from './httpTransport';

describe('httpTransport', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.destroy(), 10);
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: 'https://elsewhere.example/steal' });
        res.end();
      } else {
        let body = '';
        req.on('data', c => (body += c));
        req.on('end', () => {
          res.writeHead(200, {
            'content-type': 'application/json',
            'x-echo-method': req.method ?? '',
          });
          res.end(JSON.stringify({ body, auth: req.headers.authorization }));
        });
      }
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise(resolve => server.close(resolve)));

  const send = (
    path: string,
    init: Partial<Parameters<typeof httpTransport.send>[1]> = {},
  ) =>
    httpTransport.send(`${base}${path}`, {
      method: 'GET',
      headers: {},
      signal: new AbortController().signal,
      ...init,
    });

  it('sends method, headers and body, and buffers the answer', async () => {
    const res = await send('/echo', {
      method: 'POST',
      headers: { authorization: 'x y' },
      body: 'a=1&é=2',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-echo-method')).toBe('POST');
    expect(JSON.parse(await res.body())).toEqual({
      body: 'a=1&é=2',
      auth: 'x y',
    });
  });

  it('rejects a body cut short', async () => {
    const res = await send('/cut');
    await expect(res.body()).rejects.toThrow();
  });

  it('never follows a redirect', async () => {
    const res = await send('/redirect');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://elsewhere.example/steal');
  });

  it('stops when aborted, body included', async () => {
    const controller = new AbortController();
    const res = await send('/cut', { signal: controller.signal });
    controller.abort();
    await expect(res.body()).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('names the network error', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(resolve => closed.close(resolve));
    await expect(
      httpTransport.send(`http://127.0.0.1:${port}/`, {
        method: 'GET',
        headers: {},
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
