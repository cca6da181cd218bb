import { describe, expect, it } from 'vitest';
import { defaultPorts, pickFreePorts, portsFromBase } from '../../../local/ports.ts';

describe('local stack ports', () => {
  it('keeps the layout of DESIGN.md when shifted to another base', () => {
    expect(portsFromBase(8080)).toEqual(defaultPorts);
    expect(portsFromBase(9080)).toEqual({
      ingest: 9081,
      poll: 9082,
      webhooks: 9083,
      api: 9084,
      pubsub: 9085,
      firestore: 9086,
      vertex: 9090,
      yandex: 9091,
      yandexUpload: 9092,
    });
  });

  it('refuses a base that would leave the port range', () => {
    expect(() => portsFromBase(65530)).toThrow(RangeError);
  });

  it('picks a different free port for every part', async () => {
    const ports = Object.values(await pickFreePorts());
    expect(ports).toHaveLength(Object.keys(defaultPorts).length);
    expect(new Set(ports).size).toBe(ports.length);
  });
});
