/* views.c - the list of views, by id: a new view is a file with its
 * tui_view and a line here (and an id in tui_int.h).
 *
 * Deliberately not here: any view's code. */
#include "tui_int.h"

const tui_view *const tui_views[VIEW_N] = {
    [VIEW_MAP] = &tui_view_map,
    [VIEW_MODEL] = &tui_view_model,
    [VIEW_SUMMARY] = &tui_view_summary,
    [VIEW_LENS] = &tui_view_lens,
};
