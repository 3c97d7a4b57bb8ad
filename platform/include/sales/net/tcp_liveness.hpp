#pragma once
// How a client notices a server host that vanished without a reset (a partition, a lost
// node): TCP keepalive probes after this much silence, this often, this many; with
// TCP_USER_TIMEOUT they end the connection in seconds instead of the kernel's minutes. One
// setting for the PostgreSQL sessions (pg::tcp_liveness_options) and the broker's socket.
namespace sales::net {

inline constexpr int kKeepaliveIdleSeconds = 5;
inline constexpr int kKeepaliveIntervalSeconds = 1;
inline constexpr int kKeepaliveProbes = 5;

}  // namespace sales::net
