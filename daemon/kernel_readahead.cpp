#include "daemon/kernel_readahead.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kerchunkfs::daemon {
namespace {

// A mountinfo path field: spaces, tabs, newlines and backslashes are written as \ and three
// octal digits.
std::string unescaped(const std::string& field) {
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const bool escape = field[i] == '\\' && i + 3 < field.size() &&
                        field.substr(i + 1, 3).find_first_not_of("01234567") == std::string::npos;
    if (escape) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

common::Status set_kernel_readahead(const std::string& mountpoint, unsigned kib) {
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line, device;
  while (std::getline(mounts, line)) {
    // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT ...; the last match is the mount on top.
    std::istringstream fields(line);
    std::string id, parent, numbers, root, point;
    if ((fields >> id >> parent >> numbers >> root >> point) && unescaped(point) == mountpoint) device = numbers;
  }
  if (device.empty()) return common::Error{mountpoint + " is not in /proc/self/mountinfo"};
  const std::string knob = "/sys/class/bdi/" + device + "/read_ahead_kb";
  std::ofstream out(knob);
  if (out) out << kib << '\n';
  out.close();
  if (!out) return common::Error{"cannot write " + knob + ": " + std::strerror(errno), errno};
  return common::Ok{};
}

}  // namespace kerchunkfs::daemon
