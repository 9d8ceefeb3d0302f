// Proof bundle export (docs/formats.md §5): a job's WPC, CST claims and receipts, signed as one DSSE
// envelope. Receipts are copied exactly as logged, in log order (seq order for an intact log): the
// bundle never repairs or re-orders what it carries, so tampering stays visible to the verifier.
#include <set>

#include "policy/encoding.h"
#include "policy/json.h"
#include "policy/keys.h"
#include "base/reason.h"
#include "policy/strict_json.h"
#include "policy/wpc.h"
#include "receipts/internal.h"

namespace clawjail::receipts {
namespace {

// The policy hashes the receipts name (unreadable payloads are skipped: verify will say why).
std::set<std::string> policy_hashes(const std::vector<Json>& envelopes) {
  std::set<std::string> hashes;
  for (const auto& env : envelopes) {
    auto bytes = detail::dsse_payload(env);
    if (!bytes.ok()) continue;
    auto p = Json::parse(*bytes, nullptr, false);
    if (detail::bound_to_job_wpc(p) && p.contains("policy_hash_b64u") && p["policy_hash_b64u"].is_string())
      hashes.insert(p["policy_hash_b64u"].get<std::string>());
  }
  return hashes;
}

Result<Json> load_wpc(const std::filesystem::path& state_dir, const std::vector<Json>& envelopes) {
  auto hashes = policy_hashes(envelopes);
  if (hashes.empty()) return fail(Reason::WPC_NOT_FOUND, "no receipt of the job names a policy");
  if (hashes.size() > 1) {
    std::string list;
    for (const auto& h : hashes) list += (list.empty() ? "" : ", ") + h;
    return fail(Reason::RECEIPT_POLICY_MISMATCH, "the job's receipts name several policies (" + list +
                                                     "); a bundle holds one");
  }
  const std::string& hash = *hashes.begin();
  if (!policy::normalize_hash_b64u(hash).ok())
    return fail(Reason::RECEIPT_PAYLOAD_INVALID, "policy hash " + hash + " is malformed");
  auto path = state_dir / "policies" / (hash + ".json");
  auto bytes = policy::read_file_limited(path, 1 << 20);
  if (!bytes.ok()) return fail(Reason::WPC_NOT_FOUND, bytes.error().detail);
  auto envelope = policy::parse_strict_json(*bytes);
  if (!envelope.ok()) return fail(Reason::WPC_STORE_CORRUPT, path.string() + ": " + envelope.error().detail);
  auto actual = policy::wpc_hash(*envelope);
  if (!actual.ok() || *actual != hash)
    return fail(Reason::WPC_STORE_CORRUPT, path.string() + " does not hash to its name");
  return *envelope;
}

Result<Json> cst_section(const std::filesystem::path& state_dir, const ExportOptions& o) {
  std::optional<JobCst> known;
  if (o.cst) {
    known = JobCst{o.cst->claims, o.cst->token_sha256_b64u(), o.cst->kid, o.cst->token};
  } else {
    auto stored = read_job_cst(state_dir, o.job_id);
    if (!stored.ok()) return stored.error();
    known = std::move(*stored);
  }
  std::optional<std::string> token = o.token ? o.token : known ? std::optional(known->token) : std::nullopt;
  if (o.include_token && (!token || token->empty()))
    return fail(Reason::CST_MISSING, "--include-token: no token is recorded for job " + o.job_id);
  if (!known) return Json(nullptr);
  Json cst = {{"claims", known->claims},
              {"token_sha256_b64u", known->token_sha256_b64u},
              {"issuer_kid", known->issuer_kid}};
  if (o.include_token) cst["token"] = *token;
  return cst;
}

Json signer_keys(const std::vector<Json>& envelopes, const std::string& bundle_signer) {
  std::set<std::string> keys{bundle_signer};
  for (const auto& env : envelopes)
    if (env.contains("signatures") && env["signatures"].is_array())
      for (const auto& sig : env["signatures"])
        if (sig.is_object() && sig.contains("keyid") && sig["keyid"].is_string())
          keys.insert(sig["keyid"].get<std::string>());
  return Json(std::vector<std::string>(keys.begin(), keys.end()));
}

}  // namespace

Result<Json> export_bundle(const std::filesystem::path& state_dir, const policy::SecretKey& key,
                           const ExportOptions& options) {
  auto log = read_job_log(state_dir, options.job_id);
  if (!log.ok()) return log.error();
  if (log->envelopes.empty())
    return fail(Reason::BAD_FIELD, "job " + options.job_id + " has no receipts");
  auto wpc = load_wpc(state_dir, log->envelopes);
  if (!wpc.ok()) return wpc.error();
  auto cst = cst_section(state_dir, options);
  if (!cst.ok()) return cst.error();
  Json bundle = {{"bundle_version", "1"},
                 {"job_id", options.job_id},
                 {"created_at", detail::rfc3339_ms(std::chrono::system_clock::now())},
                 {"wpc", *wpc},
                 {"cst", *cst},
                 {"supervisor_keys", signer_keys(log->envelopes, key.did())},
                 {"receipts", log->envelopes}};
  if (!options.gateway_receipts.empty()) bundle["gateway_receipts"] = options.gateway_receipts;
  return dsse_sign(key, kBundlePayloadType, detail::compact_json(bundle));
}

}  // namespace clawjail::receipts
