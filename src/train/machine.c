/* machine.c - how much of the machine a training run gets (train.h,
 * "speed"): target tokens per second and per CPU-second of the training
 * steps, the share of the asked-for cores the process used (its CPU time
 * from getrusage over wall time times threads) and the machine's steal
 * share (from /proc/stat). Issue 14 found a run that logged half the
 * benchmark's tokens/s with nothing in its log saying it had about one
 * core; these numbers say it.
 *
 * Deliberately not here: printing and logging them (loop.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "train.h"

double train_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

int train_parse_proc_stat(const char *text, unsigned long long *steal,
                          unsigned long long *total)
{
    /* "cpu  user nice system idle iowait irq softirq steal guest guest_nice";
     * guest time is already counted in user, so it is not added again. */
    if (strncmp(text, "cpu ", 4)) return -1;
    const char *p = text + 4;
    unsigned long long v[8] = {0};
    int n = 0;
    while (n < 8) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p) break;
        v[n++] = x;
        p = end;
    }
    if (n < 4) return -1;
    *total = 0;
    for (int i = 0; i < n; i++) *total += v[i];
    *steal = n >= 8 ? v[7] : 0;
    return 0;
}

/* The machine's steal and total ticks now; -1 when /proc/stat is not there. */
static int read_proc_stat(unsigned long long *steal, unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    char line[512];
    int rc = fgets(line, sizeof line, f) ? train_parse_proc_stat(line, steal, total) : -1;
    fclose(f);
    return rc;
}

void train_speed_begin(train_speed *s, int threads, double now)
{
    memset(s, 0, sizeof *s);
    s->threads = threads;
    s->have_stat = read_proc_stat(&s->steal0, &s->total0) == 0;
    s->steal1 = s->steal0;
    s->total1 = s->total0;
    s->stat_at = now;
}

void train_speed_add(train_speed *s, double wall, double cpu, size_t tokens, double now)
{
    s->wall += wall;
    s->cpu += cpu;
    s->asked += wall * s->threads;
    s->tokens += tokens;
    s->steps++;
    /* /proc/stat counts in 10 ms ticks: read it about once a second */
    if (s->have_stat && now - s->stat_at >= 1.0) {
        unsigned long long st, tot;
        if (read_proc_stat(&st, &tot) == 0) {
            s->steal1 = st;
            s->total1 = tot;
        }
        s->stat_at = now;
    }
}

void train_speed_finish(train_speed *s)
{
    unsigned long long st, tot;
    if (s->have_stat && read_proc_stat(&st, &tot) == 0) {
        s->steal1 = st;
        s->total1 = tot;
    }
}

static double ratio(double x, double y) { return y > 0 ? x / y : 0; }

double train_speed_tps(const train_speed *s, int all)
{
    return all ? ratio((double)(s->tokens + s->base_tokens), s->wall + s->base_wall)
               : ratio((double)s->tokens, s->wall);
}

double train_speed_tpcs(const train_speed *s, int all)
{
    return all ? ratio((double)(s->tokens + s->base_tokens), s->cpu + s->base_cpu)
               : ratio((double)s->tokens, s->cpu);
}

double train_speed_share(const train_speed *s, int all)
{
    return all ? ratio(s->cpu + s->base_cpu, s->asked + s->base_asked) : ratio(s->cpu, s->asked);
}

double train_speed_steal(const train_speed *s, int all)
{
    double st = s->have_stat ? (double)(s->steal1 - s->steal0) : 0;
    double tot = s->have_stat ? (double)(s->total1 - s->total0) : 0;
    if (all) {
        st += (double)s->base_steal;
        tot += (double)s->base_total;
    }
    return ratio(st, tot);
}

int train_speed_should_warn(train_speed *s, int last)
{
    if (s->warned) return 0;
    /* a second of steps (or a whole short run of a quarter second) is
     * enough to tell one core from two */
    if (!(s->wall >= 1.0 || (last && s->wall >= 0.25)) || s->steps < 5) return 0;
    if (train_speed_share(s, 0) >= TRAIN_LOW_SHARE) return 0;
    s->warned = 1;
    return 1;
}
