// Prints where the release builder thinks the checkout is, bundled as the campaign is
// (run by entry-points.test.ts through tools/torture/run-ts.mjs).
import { ROOT } from '../fixtures/previous-release/build-release.mjs';

process.stdout.write(`${JSON.stringify({ root: ROOT })}\n`);
