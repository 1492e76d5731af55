/** The payload codecs' one failure: GS_ERR_PAYLOAD_MALFORMED, never another error or a value. */
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'

export function malformed(fn: () => unknown): void {
  try {
    fn()
    assert.unreachable('should throw')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_PAYLOAD_MALFORMED'), String(err))
  }
}
