#include "fetch/bearer_token.h"

#include <cctype>
#include <fstream>
#include <iterator>

namespace kerchunkfs::fetch {

const std::string* BearerToken::current() {
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < std::chrono::seconds(1) && token_) return &*token_;
  checked_ = now;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return token_ ? &*token_ : nullptr;
  if (token_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec) return &*token_;
  std::ifstream in(path_);
  if (!in) return token_ ? &*token_ : nullptr;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.pop_back();
  if (text.empty() || text.find_first_of("\r\n") != std::string::npos) return nullptr;  // no header injection
  token_ = std::move(text);
  mtime_ = st.st_mtim;
  return &*token_;
}

}  // namespace kerchunkfs::fetch
