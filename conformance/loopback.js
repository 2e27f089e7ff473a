'use strict';
// Keeps the process on loopback: any attempt to open a connection to
// another host fails at once, so a library that tries to fetch something
// or report telemetry at run time is noticed instead of reaching out.

const net = require('node:net');

const loopback = new Set(['127.0.0.1', '::1', 'localhost']);

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  // net.connect passes its arguments on already normalized, as an array
  // whose first element holds the options.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === 'object' && first !== null ? first : { host: args[1] };
  const host = options.path ? 'localhost' : String(options.host || 'localhost');
  if (!loopback.has(host)) {
    throw new Error(`connection to ${host} refused: the conformance run stays on 127.0.0.1`);
  }
  return connect.apply(this, args);
};
