// The HTML page of `clawjail bundle report`: one self-contained file rendered from the report
// model (receipts::report_model plus the WPC's explain facts) with the template report.tpl,
// compiled into the binary. Every string from the bundle is escaped by ctemplate's HTML
// auto-escaping; the page has no script and a CSP that forbids any network access.
#pragma once
#include <string>

#include "policy/json.h"

namespace clawjail::cli {

std::string render_report_html(const policy::Json& model);

}  // namespace clawjail::cli
