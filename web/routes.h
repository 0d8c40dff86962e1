/* web_routes: the table of routes (routes.c) and its lookup. */
#ifndef WEB_ROUTES_H
#define WEB_ROUTES_H

#include "web/http.h"

/* The route for method and path, or NULL. params gets the {x} segments
 * (malloc'd; caller frees). *path_known tells a wrong method (405) from an
 * unknown path (404). */
const web_route *web_route_find(const char *method, const char *path, const char **params,
                                int *nparams, bool *path_known);
size_t web_route_count(void);
/* The position of r in the table (web_route_count() for NULL). */
size_t web_route_index(const web_route *r);
const web_route *web_route_at(size_t i);

#endif
