// @peculiar/x509 with Node's WebCrypto, loaded once; the library crashes without reflect-metadata.

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The library types WebCrypto with DOM names that this Node-only build does not load.
x509.cryptoProvider.set(webcrypto as never);

export { x509 };
