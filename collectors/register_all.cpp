#include "collectors/alertmanager/alertmanager_collector.h"
#include "collectors/borg/borg_collector.h"
#include "collectors/collector.h"
#include "collectors/exec/exec_collector.h"
#include "collectors/docs/docs_collector.h"
#include "collectors/file/file_collector.h"
#include "collectors/git/git_collector.h"
#include "collectors/gitlab/gitlab_collector.h"
#include "collectors/grafana/grafana_collector.h"
#include "collectors/haproxy/haproxy_collector.h"
#include "collectors/jira/jira_collector.h"
#include "collectors/loki/loki_collector.h"
#include "collectors/netbox/netbox_collector.h"
#include "collectors/patroni/patroni_collector.h"
#include "collectors/pgbackrest/pgbackrest_collector.h"
#include "collectors/postgresql/postgresql_collector.h"
#include "collectors/prometheus/prometheus_collector.h"
#include "collectors/redis/redis_collector.h"
#include "collectors/rest_cmdb/rest_cmdb_collector.h"
#include "collectors/restic/restic_collector.h"
#include "collectors/zabbix/zabbix_collector.h"

namespace opsm::collectors {

Status registerAll(Registry& registry) {
  for (auto* reg : {&prometheus::registerPrometheus, &alertmanager::registerAlertmanager,
                   &restic::registerRestic, &borg::registerBorg, &pgbackrest::registerPgBackRest,
                   &postgresql::registerPostgresql, &redis::registerRedis,
                   &exec::registerExec, &file::registerFile, &docs::registerDocs,
                   &git::registerGit, &netbox::registerNetbox,
                   &gitlab::registerGitlab, &jira::registerJira,
                   &rest_cmdb::registerRestCmdb,
                   &grafana::registerGrafana, &haproxy::registerHaproxy,
                   &patroni::registerPatroni, &zabbix::registerZabbix,
                   &loki::registerLoki}) {
    if (auto st = reg(registry); !st) return st;
  }
  return Status::success();
}

}  // namespace opsm::collectors
