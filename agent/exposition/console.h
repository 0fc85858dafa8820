#pragma once

#include <optional>

#include "agent/core/agent.h"
#include "agent/exposition/http_server.h"

namespace opsm::agent {

struct RouteContext;

// The web console for assessors under /ui (docs/console.md): the estate overview (a heat map of
// systems x items), a page per system (domains, items, criteria with their evidence,
// attestations and waivers, gaps, level history, a radar of the 9 domains and dimension bars),
// the review queue (pending attestations and waivers), and the report card (most improved,
// worst drops, at risk over 7/30/90 days). Server-rendered HTML in Chinese or English
// (?lang=zh|en), one stylesheet and one small script served by the agent: it works air-gapped.
// Writes go through the API with the bearer token the person enters once per browser session
// (kept in sessionStorage, never in the page). The handlers of its routes (routes.cpp):
namespace console {
HttpReply redirect(const RouteContext& c);  // /ui -> /ui/
HttpReply css(const RouteContext& c);
HttpReply js(const RouteContext& c);
HttpReply overview(const RouteContext& c);
HttpReply reviews(const RouteContext& c);
HttpReply reportCard(const RouteContext& c);
HttpReply system(const RouteContext& c);  // params: the system
HttpReply notFound();
}  // namespace console

}  // namespace opsm::agent
