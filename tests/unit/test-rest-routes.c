/* SPDX-License-Identifier: MIT */
/*
 * test-rest-routes.c — the REST route table (daemon/rest/routes.c) against the OpenAPI
 * document (api/schema/openapi.yaml, embedded by the build): every route is a documented path
 * with exactly the documented methods, and every documented path is a route. A new route
 * without its OpenAPI entry (or the reverse) fails here.
 */
#include <string.h>

#include "api/schema.h"
#include "daemon/rest/internal.h"
#include "tests/unit/unit.h"

static json_t *paths(void)
{
    json_t *doc = json_loads(api_schema_openapi, 0, NULL);
    json_t *p;

    assert_non_null(doc);
    p = json_incref(json_object_get(doc, "paths"));
    json_decref(doc);
    assert_true(json_is_object(p));
    return p;
}

static void test_routes_documented(void **state)
{
    json_t *p = paths();
    const struct rest_route *rt;

    (void)state;
    for (size_t i = 0; (rt = rest_route_at(i)); i++) {
        json_t *item = json_object_get(p, rt->path);

        if (!item)
            fail_msg("route %s is not in openapi.yaml", rt->path);
        if (!!rt->get != !!json_object_get(item, "get") ||
            !!rt->post != !!json_object_get(item, "post") ||
            !!rt->del != !!json_object_get(item, "delete"))
            fail_msg("route %s: methods differ from openapi.yaml", rt->path);
        if (json_object_get(item, "put") || json_object_get(item, "patch"))
            fail_msg("openapi.yaml documents a method pcid does not serve on %s", rt->path);
    }
    json_decref(p);
}

static void test_documented_routes_exist(void **state)
{
    json_t *p = paths(), *item;
    const char *path;

    (void)state;
    json_object_foreach(p, path, item)
    {
        bool found = false;

        for (size_t i = 0; rest_route_at(i) && !found; i++)
            found = streq(rest_route_at(i)->path, path);
        if (!found)
            fail_msg("openapi.yaml documents %s, which pcid does not serve", path);
    }
    json_decref(p);
}

int main(void)
{
    struct unit_suite s = {0};
    static const struct {
        const char *name;
    } one[] = {{"once"}};

    UNIT_ROWS(&s, one, test_routes_documented);
    UNIT_ROWS(&s, one, test_documented_routes_exist);
    return unit_run(&s, "rest-routes");
}
