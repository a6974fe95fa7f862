// Every conformance suite, in the order the hosts run them. A new *.conformance.js file must be
// listed here (test/conformance/node.test.ts checks that none is left out).
import './refresh.conformance.js';
import './sts-sign.conformance.js';
import './sts-emulator.conformance.js';
import './providers.conformance.js';
import './redaction.conformance.js';
import './oss.conformance.js';
