/**
 * Preloaded into kinesis-mock (`node --require`): every TCP server it opens listens on 127.0.0.1.
 * kinesis-mock hard-codes the wildcard address 0.0.0.0 and has no authentication, so without this any
 * machine on the network could read and write the local streams. Embedded engines, like kinesalite
 * and the local Lambda endpoint, are reachable from this machine only.
 */
'use strict';
const net = require('node:net');

const LOOPBACK = '127.0.0.1';
const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::', '::0']);
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === 'object' && !Array.isArray(first) && first.path === undefined && !('_handle' in first) && !('fd' in first)) {
    if (WILDCARDS.has(first.host)) args[0] = { ...first, host: LOOPBACK };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] !== 'string' || WILDCARDS.has(args[1])) {
      if (typeof args[1] === 'string') args[1] = LOOPBACK;
      else args.splice(1, 0, LOOPBACK);
    }
  }
  return listen.apply(this, args);
};
