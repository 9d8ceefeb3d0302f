// Writes seed corpora in the real formats, signed with the fuzz targets' fixed key, so that the
// fuzzers start from documents that pass every check and mutate from there.
#include <arpa/inet.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "policy/cst.h"
#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/text.h"
#include "policy/wpc.h"
#include "receipts/receipts.h"
#include "supervisor/proto/protocol.h"
#include "tests/fuzz/fuzz_keys.h"

namespace fs = std::filesystem;
using namespace clawjail;
using policy::Json;

namespace {

void write_seed(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

Json tool_wpc() {
  return Json::parse(R"({"wpc_version":"v1","policy_id":"fuzz","issuer_did":"did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    "job":{"id":"job-fuzz","anti_replay":{"bind_job_scoped_cst":true}},
    "tools":{"allow":["read","write:workspace","exec"],"deny":["docker_socket"],"elevated":{"enabled":false}},
    "tokens":{"require_cst":true,"pin_wpc_hash":true},
    "sandbox":{"workspace_access":"rw","limits":{"timeout_ms":1000,"memory_mb":64},
               "binds":[{"src":"/opt/tools","dst":"/opt/tools","mode":"ro"}],"env":{"pass":["LANG"]}},
    "metadata":{"note":"seed"}})");
}

Json claw_v2_wpc() {
  return Json::parse(R"({"policy_version":"2","policy_id":"fuzz-v2","statements":[
    {"sid":"a","effect":"Allow","actions":["tool:execute"],"resources":["exec","read"]},
    {"sid":"d","effect":"Deny","actions":["tool:execute"],"resources":["docker_socket"]}]})");
}

void wpc_seeds(const fs::path& dir) {
  const auto& key = fuzz::test_key();
  write_seed(dir, "payload_v1.json", tool_wpc().dump());
  write_seed(dir, "payload_v2.json", claw_v2_wpc().dump());
  write_seed(dir, "envelope_v1.json", policy::sign_wpc(tool_wpc(), key).dump());
  write_seed(dir, "envelope_v2.json", policy::sign_wpc(claw_v2_wpc(), key).dump());
}

void cst_seeds(const fs::path& dir) {
  policy::CstIssueRequest r;
  r.kid = "fuzz-issuer";
  r.sub = fuzz::test_key().did();
  r.job = "job-fuzz";
  r.scope = {"clawjail:call", "tool:exec"};
  r.policy_hash_b64u = policy::wpc_hash(tool_wpc()).value();
  r.now = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000 - 10));
  write_seed(dir, "token.jwt", policy::issue_cst(fuzz::test_key(), r));
}

std::string frame(const std::string& body) {
  uint32_t len = htonl(static_cast<uint32_t>(body.size()));
  return std::string(reinterpret_cast<const char*>(&len), 4) + body;
}

void protocol_seeds(const fs::path& dir) {
  proto::Request call;
  call.type = clawjail::RequestType::call;
  call.job_id = "job-fuzz";
  call.cst = "a.b.c";
  call.tool = "exec";
  call.exec = proto::ExecArgs{};
  call.exec->argv = {"/bin/echo", "hi"};
  write_seed(dir, "exec.frame", frame(proto::request_to_json(call).dump()));
  call.tool = "read";
  call.exec.reset();
  call.fs = proto::FsArgs{FsOpKind::read, {"notes.txt"}};
  write_seed(dir, "fs.frame", frame(proto::request_to_json(call).dump()));
  call.fs = proto::FsArgs{FsOpKind::ls, {"d/x\xff"}};  // travels as paths_b64
  write_seed(dir, "fs-bytes.frame", frame(proto::request_to_json(call).dump()));
  call.tool = "write";
  call.fs = proto::FsArgs{FsOpKind::write, {"w.bin"}};
  call.fs->offset = 524288;
  call.fs->truncate = false;
  call.fs->data = std::string("\0\xff data", 7);  // an inline write's range (fs.data_b64)
  write_seed(dir, "fs-inline.frame", frame(proto::request_to_json(call).dump()));
  call.tool = "read";
  call.fs = proto::FsArgs{FsOpKind::read, {"w.bin"}};
  call.fs->length = 4096;
  write_seed(dir, "fs-range.frame", frame(proto::request_to_json(call).dump()));
  proto::Response answer;
  answer.reason_detail = "read d/x\xff: No such file or directory";
  answer.value = Json::array();
  policy::put_name(answer.value->emplace_back(Json::object()), "x\xff\x1b[2J");
  write_seed(dir, "answer.frame", frame(proto::response_body(answer)));
}

void bytes_seeds(const fs::path& dir) {
  write_seed(dir, "utf8", "notes/\xc3\xa9t\xc3\xa9.md");
  write_seed(dir, "latin1", "caf\xe9");
  write_seed(dir, "escapes", "t\x1b]0;pwned\x07\x9b" "1m\xe2\x80\xae");
  write_seed(dir, "surrogate", "\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf");
}

void egress_seeds(const fs::path& dir) {
  write_seed(dir, "connect", "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n");
  write_seed(dir, "get", "GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n");
  write_seed(dir, "post", "POST http://a.example:8080/up HTTP/1.1\r\nContent-Length: 5\r\n\r\n");
  write_seed(dir, "pipelined", "GET http://a.example/ HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nHost: b\r\n\r\n");
  write_seed(dir, "v6", "CONNECT [::1]:443 HTTP/1.1\r\n\r\n");
}

int bundle_seeds(const fs::path& dir) {
  fs::path state = fs::temp_directory_path() / ("clawjail-fuzz-seeds-" + std::to_string(::getpid()));
  fs::create_directories(state / "policies");
  auto envelope = policy::sign_wpc(tool_wpc(), fuzz::test_key());
  auto hash = policy::wpc_hash(tool_wpc()).value();
  std::ofstream(state / "policies" / (hash + ".json")) << envelope.dump();
  auto store = receipts::ReceiptStore::open(state, policy::SecretKey::from_seed(std::string(32, '\x42')).value());
  if (!store) return 1;
  for (const char* phase : {"blocked", "started", "finished"}) {
    receipts::Draft d;
    d.phase = clawjail::from_name<clawjail::ReceiptPhase>(phase).value();
    d.job_id = "job-fuzz";
    d.call_id = std::string(phase) == "blocked" ? "call-1" : "call-2";
    d.tool = "exec";
    d.scopes = {"exec"};
    d.reason = std::string(phase) == "blocked" ? Reason::TOOL_DENIED : Reason::OK;
    d.policy_hash_b64u = hash;
    d.request_hash_b64u = policy::sha256_b64u(phase);
    if (std::string(phase) == "finished")
      d.result = Json{{"status", "success"}, {"exit_code", 0}, {"signal", 0}, {"duration_ms", 1},
                      {"stdout_hash_b64u", policy::sha256_b64u("")}, {"stdout_bytes", 0},
                      {"stderr_hash_b64u", policy::sha256_b64u("")}, {"stderr_bytes", 0},
                      {"violations", Json::array()}};
    if (!(*store)->record(d)) return 1;
  }
  auto bundle = receipts::export_bundle(state, fuzz::test_key(), {.job_id = "job-fuzz"});
  fs::remove_all(state);
  if (!bundle) return 1;
  write_seed(dir, "bundle.json", bundle->dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds DIR\n";
    return 2;
  }
  fs::path out = argv[1];
  wpc_seeds(out / "wpc_fuzz");
  cst_seeds(out / "cst_fuzz");
  protocol_seeds(out / "protocol_fuzz");
  bytes_seeds(out / "bytes_fuzz");
  egress_seeds(out / "egress_fuzz");
  return bundle_seeds(out / "bundle_fuzz");
}
