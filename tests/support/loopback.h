// Ports on 127.0.0.1, for tests that start servers (lighttpd, xapian-tcpsrv).
#pragma once

namespace medsearch::testing {

// A port nobody listens on now (the kernel's choice); 0 if none was given.
int free_port();

// Whether a socket can be bound to 127.0.0.1:port now.
bool port_free(int port);

// Whether a server accepts connections on 127.0.0.1:port. (A port a server
// has just left may still not be free to bind, for its closed connections.)
bool accepts_connections(int port);

}  // namespace medsearch::testing
