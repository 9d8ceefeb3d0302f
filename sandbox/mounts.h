// The jail's mount tree: planned by the parent, built by the child up to pivot_root.
#pragma once
#include "sandbox/steps.h"

namespace clawjail::sandbox::detail {

struct BindPlan {
  std::string source;  // resolved host path (no symlinks)
  std::string target;  // absolute path inside the jail
  dev_t dev = 0;       // identity checked by the parent; the child refuses a different object
  ino_t ino = 0;
  bool directory = true;
  bool writable = false;
  bool exec = true;     // false: noexec
  bool device = false;  // a /dev node: keeps device access
  int tree_fd = -1;     // a detached tree prepared by the parent (idmapped workspace), or -1
};
struct FilePlan {
  std::string path;  // inside the jail
  std::string content;
};
struct SymlinkPlan {
  std::string path;  // inside the jail
  std::string value;
};
struct MountPlan {
  std::vector<std::string> dirs;  // created in the new root, parents first
  std::vector<BindPlan> binds;
  std::vector<SymlinkPlan> symlinks;
  std::vector<FilePlan> files;
  std::string root_options;  // tmpfs options of the new root
  std::string tmp_options;   // tmpfs options of /tmp
  bool tmp_noexec = true;
};
// Root mode: the parent clones every source's tree from its descriptor (idmapped through
// `idmap_userns_fd` for the workspace, when >= 0) and keeps the trees alive until the clone.
struct ParentClone {
  bool root_mode = false;
  int idmap_userns_fd = -1;
  std::vector<UniqueFd>& keep_alive;
};
// spec.opened must be set (open_sources).
Result<MountPlan> plan_mounts(const JailSpec& spec, const ParentClone& parent);
StepResult build_root(const MountPlan& plan);  // child: private propagation .. pivot_root
// Child: `a` followed by `b` into a stack buffer; false when it would not fit.
bool join_path(char (&out)[PATH_MAX], const char* a, const char* b);

}  // namespace clawjail::sandbox::detail
