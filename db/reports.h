/* db_reports: the SQL views of schema "reports" (migrations/0002_reports.sql). */
#ifndef DB_REPORTS_H
#define DB_REPORTS_H

#include "common/pf_table.h"
#include "db/db.h"

/* name, description of every report the acting party may run (the
 * fabric's reports, table report_audience, are the operators'). *out is
 * new; caller frees. */
pf_kind db_report_list(db_conn *c, pf_table **out, pf_err *err);

/* Runs report name inside the caller's transaction. request_id > 0
 * filters reports that have a request_id column (others refuse it).
 * PF_ENOTFOUND "unknown_report" for a name that is no report;
 * PF_EFORBIDDEN "operators_only" for an operator's report asked by a
 * network (the view itself also returns no row to them). */
pf_kind db_report_run(db_conn *c, const char *name, long long request_id, pf_table **out,
                      pf_err *err);

#endif
