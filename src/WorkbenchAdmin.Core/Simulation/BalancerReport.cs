using System.Globalization;
using System.Net;
using System.Text;

namespace WorkbenchAdmin.Core.Simulation;

/// <summary>
/// The -Report page: one self-contained HTML file with inline SVG charts (no script, no external asset), the same
/// bytes for the same runs (no clock, invariant culture): the comparison table, the workload's arrival curve,
/// imbalance and churn side by side, and sessions per node over time for each method.
/// </summary>
public static class BalancerReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    /// <summary>At most this many points per line: more would not show at the page's width.</summary>
    private const int MaxPoints = 600;
    private static readonly string[] Palette =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf", "#393b79", "#e7ba52", "#637939", "#ad494a", "#7b4173", "#3182bd",
    ];

    public static string Render(Workload workload, IReadOnlyList<SimulationRun> runs)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Balancing methods compared</title>\n<style>\n")
            .Append("body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1120px}\n")
            .Append("table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}\n")
            .Append("th{background:#eef}td:first-child,th:first-child{text-align:left}\n")
            .Append(".row{display:flex;gap:16px;flex-wrap:wrap}svg{background:#fafafa;border:1px solid #ddd}\n")
            .Append("h2{margin-top:28px}.small{font-size:12px;color:#555}\n</style>\n</head>\n<body>\n");
        html.Append("<h1>Balancing methods compared</h1>\n<p>")
            .Append(E(workload.Description)).Append(": ")
            .Append(F($"{workload.Sessions.Count} sessions of {workload.Users.Count} users from {workload.Start:yyyy-MM-dd HH:mm} UTC over {workload.Duration / 86400.0:0.##} days, "))
            .Append(F($"{workload.Nodes.Count} nodes at the start: {E(NodeList(workload.Nodes))}.</p>\n"));
        var events = runs.Count > 0 ? runs[0].Result.Events : [];
        if (events.Count > 0)
            html.Append("<p>Cluster events: ").Append(E(string.Join("; ", events.Select(e => e.Event)))).Append(".</p>\n");

        Summary(html, runs);

        html.Append("<h2>Arrivals</h2>\n<p class=\"small\">New sessions per hour over the run: the workload every method received.</p>\n");
        var hours = (int)Math.Ceiling(workload.Duration / 3600.0);
        var perHour = new double[Math.Max(hours, 1)];
        foreach (var s in workload.Sessions) if (s.Start < workload.Duration) perHour[s.Start / 3600]++;
        html.Append(LineChart(1100, 220, "sessions started per hour", workload, 3600, [("#1f77b4", "arrivals", perHour)], fill: true));

        html.Append("<h2>Imbalance and churn</h2>\n<p class=\"small\">Imbalance: the busiest node's sessions minus the mean over the nodes taking sessions " +
                    "(0 is perfectly even). Switched: sessions whose user's previous session was on another node. Moved by events: of the users with a session just before and just after an event, those whose node changed.</p>\n<div class=\"row\">\n");
        html.Append(BarChart(540, 260, "imbalance (sessions above the mean)", runs.Select(r => r.Result.Method).ToArray(),
            [("max", "#d62728", runs.Select(r => r.Result.MaxImbalance).ToArray()), ("mean", "#ff9896", runs.Select(r => r.Result.MeanImbalance).ToArray())]));
        html.Append(BarChart(540, 260, "churn (% of sessions switched; % of users the events moved)", runs.Select(r => r.Result.Method).ToArray(),
            [("switched %", "#1f77b4", runs.Select(r => r.Result.SwitchPercent).ToArray()), ("moved by events %", "#9467bd", runs.Select(r => MovedPercent(r.Result)).ToArray())]));
        html.Append("</div>\n");
        if (runs.Count > 0)
        {
            var interval = runs[0].IntervalSeconds;
            html.Append(LineChart(1100, 240, "imbalance over time", workload, interval,
                runs.Select((r, i) => (Palette[i % Palette.Length], r.Result.Method, r.Imbalance)).ToArray()));
        }

        html.Append("<h2>Sessions per node over time</h2>\n");
        foreach (var run in runs)
        {
            var nodes = run.NodeNames.Count;
            var series = new List<(string, string, double[])>();
            for (var n = 0; n < nodes; n++)
            {
                var values = new double[run.Samples];
                var any = false;
                for (var k = 0; k < run.Samples; k++)
                {
                    var v = run.Sessions[k * nodes + n];
                    values[k] = v < 0 ? double.NaN : v;
                    any |= v >= 0;
                }
                if (any) series.Add((Palette[n % Palette.Length], run.NodeNames[n], values));
            }
            html.Append("<h3>").Append(E(run.Result.Method)).Append("</h3>\n")
                .Append(LineChart(1100, 260, "sessions per node", workload, run.IntervalSeconds, series));
        }
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>Users moved by the events, as a percentage of the users each event could have moved.</summary>
    private static double MovedPercent(BalancerComparison r)
    {
        var compared = r.Events.Sum(e => e.UsersCompared);
        return compared == 0 ? 0 : Math.Round(100.0 * r.UsersMovedByEvents / compared, 1);
    }

    /// <summary>The nodes and their cores, said once when every node has the same.</summary>
    private static string NodeList(IReadOnlyList<SimNodeSpec> nodes) =>
        nodes.Select(n => n.Cores).Distinct().Count() == 1
            ? string.Join(", ", nodes.Select(n => n.Entry)) + F($", {nodes[0].Cores} cores each")
            : string.Join(", ", nodes.Select(n => F($"{n.Entry} ({n.Cores} cores)")));

    private static void Summary(StringBuilder html, IReadOnlyList<SimulationRun> runs)
    {
        html.Append("<h2>Summary</h2>\n<table>\n<tr><th>Method</th><th>Sessions</th><th>Refused</th><th>Peak sessions/node</th><th>p95 sessions/node</th>" +
                    "<th>Max imbalance</th><th>Mean imbalance</th><th>Peak load/core</th><th>p95 load/core</th><th>Switched %</th><th>Switched users</th><th>Moved by events</th></tr>\n");
        foreach (var r in runs.Select(r => r.Result))
            html.Append(F($"<tr><td>{E(r.Method)}</td><td>{r.Sessions}</td><td>{r.Refused}</td><td>{r.PeakSessionsPerNode}</td><td>{r.P95SessionsPerNode:0.##}</td>"))
                .Append(F($"<td>{r.MaxImbalance:0.##}</td><td>{r.MeanImbalance:0.##}</td><td>{r.PeakLoadPerCore:0.##}</td><td>{r.P95LoadPerCore:0.##}</td>"))
                .Append(F($"<td>{r.SwitchPercent:0.#}</td><td>{r.SwitchedUsers}</td><td>{r.UsersMovedByEvents}</td></tr>\n"));
        html.Append("</table>\n");
    }

    /// <summary>Lines over the run's time axis (one tick per day); NaN leaves a gap. Long series keep each bucket's maximum.</summary>
    private static string LineChart(int width, int height, string title, Workload workload, int stepSeconds,
                                    IReadOnlyList<(string Color, string Name, double[] Values)> series, bool fill = false)
    {
        const int left = 48, right = 150, top = 24, bottom = 28;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var count = series.Count == 0 ? 0 : series.Max(s => s.Values.Length);
        var bucket = Math.Max(1, (int)Math.Ceiling(count / (double)MaxPoints));
        var yMax = NiceMax(series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0).Max());
        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n"));
        svg.Append(F($"<text x=\"{left}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{E(title)}</text>\n"));
        Axes(svg, left, top, plotW, plotH, yMax);
        // Day ticks along the bottom.
        var days = workload.Duration / 86400.0;
        var every = Math.Max(1, (int)Math.Ceiling(days / 15));
        for (var d = 0; d <= days; d += every)
        {
            var x = left + plotW * (d * 86400.0 / workload.Duration);
            svg.Append(F($"<line x1=\"{x:0.#}\" y1=\"{top}\" x2=\"{x:0.#}\" y2=\"{top + plotH}\" stroke=\"#e4e4e4\"/>"))
               .Append(F($"<text x=\"{x:0.#}\" y=\"{height - 10}\" font-size=\"10\" text-anchor=\"middle\">{workload.Start.AddDays(d):MM-dd}</text>\n"));
        }
        for (var i = 0; i < series.Count; i++)
        {
            var (color, name, values) = series[i];
            var points = new StringBuilder();
            void Flush()
            {
                if (points.Length == 0) return;
                svg.Append(fill
                    ? F($"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>\n")
                    : F($"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.2\" stroke-opacity=\"0.85\"/>\n"));
                points.Clear();
            }
            for (var k = 0; k < values.Length; k += bucket)
            {
                var v = double.NaN;
                for (var j = k; j < Math.Min(k + bucket, values.Length); j++)
                    if (double.IsFinite(values[j])) v = double.IsNaN(v) ? values[j] : Math.Max(v, values[j]);
                if (double.IsNaN(v)) { Flush(); continue; }
                var x = left + plotW * Math.Min(1, (double)k * stepSeconds / workload.Duration);
                var y = top + plotH - plotH * (v / yMax);
                points.Append(F($"{x:0.#},{y:0.#} "));
            }
            Flush();
            // The legend, on the right: two narrower columns when one would not fit the plot's height.
            var columns = series.Count * 14 > plotH ? 2 : 1;
            var perColumn = (series.Count + columns - 1) / columns;
            var step = Math.Min(14, plotH / (double)perColumn);
            if (step >= 6)
            {
                var lx = left + plotW + 8 + i / perColumn * 72;
                var ly = top + 8 + i % perColumn * step;
                svg.Append(F($"<rect x=\"{lx}\" y=\"{ly - 7:0.#}\" width=\"8\" height=\"8\" fill=\"{color}\"/>"))
                   .Append(F($"<text x=\"{lx + 11}\" y=\"{ly + 1:0.#}\" font-size=\"{(columns == 1 ? 11 : 9)}\">{E(name)}</text>\n"));
            }
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Grouped bars: one group per method, one bar per measure.</summary>
    private static string BarChart(int width, int height, string title, string[] groups, IReadOnlyList<(string Name, string Color, double[] Values)> measures)
    {
        const int left = 48, top = 40, bottom = 40, right = 12;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var yMax = NiceMax(measures.SelectMany(m => m.Values).DefaultIfEmpty(0).Max());
        var svg = new StringBuilder();
        svg.Append(F($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n"));
        svg.Append(F($"<text x=\"{left}\" y=\"16\" font-size=\"13\" font-weight=\"bold\">{E(title)}</text>\n"));
        for (var m = 0; m < measures.Count; m++)
            svg.Append(F($"<rect x=\"{left + m * 110}\" y=\"23\" width=\"10\" height=\"10\" fill=\"{measures[m].Color}\"/><text x=\"{left + 14 + m * 110}\" y=\"32\" font-size=\"11\">{E(measures[m].Name)}</text>\n"));
        Axes(svg, left, top, plotW, plotH, yMax);
        var groupW = groups.Length == 0 ? plotW : plotW / (double)groups.Length;
        var barW = groupW * 0.7 / Math.Max(1, measures.Count);
        for (var g = 0; g < groups.Length; g++)
        {
            var x0 = left + g * groupW + groupW * 0.15;
            for (var m = 0; m < measures.Count; m++)
            {
                var v = measures[m].Values[g];
                var h = plotH * (v / yMax);
                var x = x0 + m * barW;
                svg.Append(F($"<rect x=\"{x:0.#}\" y=\"{top + plotH - h:0.#}\" width=\"{barW - 2:0.#}\" height=\"{h:0.#}\" fill=\"{measures[m].Color}\"/>"))
                   .Append(F($"<text x=\"{x + barW / 2 - 1:0.#}\" y=\"{top + plotH - h - 3:0.#}\" font-size=\"9\" text-anchor=\"middle\">{v:0.#}</text>\n"));
            }
            svg.Append(F($"<text x=\"{left + g * groupW + groupW / 2:0.#}\" y=\"{height - 22}\" font-size=\"11\" text-anchor=\"middle\">{E(groups[g])}</text>\n"));
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Axes(StringBuilder svg, int left, int top, int plotW, int plotH, double yMax)
    {
        for (var t = 0; t <= 4; t++)
        {
            var y = top + plotH - plotH * t / 4.0;
            svg.Append(F($"<line x1=\"{left}\" y1=\"{y:0.#}\" x2=\"{left + plotW}\" y2=\"{y:0.#}\" stroke=\"#e4e4e4\"/>"))
               .Append(F($"<text x=\"{left - 4}\" y=\"{y + 4:0.#}\" font-size=\"10\" text-anchor=\"end\">{yMax * t / 4:0.##}</text>\n"));
        }
        svg.Append(F($"<rect x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#999\"/>\n"));
    }

    /// <summary>A round axis maximum at or above <paramref name="max"/> (1, 2 or 5 times a power of ten).</summary>
    internal static double NiceMax(double max)
    {
        if (!(max > 0)) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(max)));
        foreach (var step in new[] { 1.0, 2, 5, 10 })
            if (step * power >= max) return step * power;
        return 10 * power;
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string F(FormattableString text) => text.ToString(Inv);
}
