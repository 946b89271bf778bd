// The compose loader's did-you-mean; it lives in common/ since the Dockerfile parser uses it too.
export { closestName, editDistance } from '../common/did-you-mean.js';
