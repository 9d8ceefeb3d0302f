// The installed WPCs: <state_dir>/policies/<hash>.json, verified on every read.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/reason.h"
#include "policy/wpc.h"

namespace clawjail::policy {

template <class T>
class FileCache;  // policy/file_cache.h

class PolicyStore {  // <state_dir>/policies/<hash>.json
 public:
  PolicyStore(std::filesystem::path state_dir, std::vector<std::string> signers);
  Result<std::string> install(const Json& envelope);     // verifies, stores atomically, returns hash
  Result<VerifiedWpc> get(std::string_view hash_b64u) const;  // refuses a file whose hash differs from its name
  std::vector<std::string> list() const;
 private:
  std::filesystem::path dir_;
  std::vector<std::string> signers_;
  std::shared_ptr<FileCache<VerifiedWpc>> verified_;  // by file version: same bytes, same signers
};

}  // namespace clawjail::policy
