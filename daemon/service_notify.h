// systemd's service notification protocol (sd_notify(3)), spoken directly: one datagram per
// state change to the socket in $NOTIFY_SOCKET. Nothing happens when the variable is unset, so
// the daemon behaves the same outside systemd.
#pragma once

#include <string>
#include <string_view>

namespace kerchunkfs::daemon {

class ServiceNotifier {
 public:
  // Reads $NOTIFY_SOCKET: a path, or "@name" for an abstract socket.
  ServiceNotifier();
  bool enabled() const { return !socket_.empty(); }
  // Sends "NAME=value" lines such as "READY=1\nSTATUS=..."; false when it could not be sent.
  bool send(std::string_view state) const;

 private:
  std::string socket_;
};

}  // namespace kerchunkfs::daemon
