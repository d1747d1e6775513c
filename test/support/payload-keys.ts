import { AesGcmPayloadCodec, parsePayloadKeys } from '../../common/codec';

/**
 * TEST-ONLY payload keys. They are public (committed), so they protect nothing: never use
 * them outside the tests. Every test client and worker encrypts with these, so tests run
 * through the same codec as production.
 */
export const TEST_ONLY_KEY_1 = 'test-only-k1:S6kyP+WeiV8g4OnM+swY2pkLKbPLlq9urqi81xVn1QM=';
export const TEST_ONLY_KEY_2 = 'test-only-k2:2YRxugszTX5C+EI36F/keyc2UBIsIge/M0Oq3wOpFJY=';
export const TEST_ONLY_KEY_3 = 'test-only-k3:DVlDuXMSXdqWICMy4g5ImpaQ+hRYtl3HBiZ7k50qac8=';

/** The default test key set, in PAYLOAD_KEYS form. */
export const TEST_ONLY_PAYLOAD_KEYS = TEST_ONLY_KEY_1;

export function testCodec(payloadKeys: string = TEST_ONLY_PAYLOAD_KEYS): AesGcmPayloadCodec {
  return new AesGcmPayloadCodec(parsePayloadKeys(payloadKeys));
}
