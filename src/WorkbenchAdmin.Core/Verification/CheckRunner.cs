using WorkbenchAdmin.Core.Formats;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>What Test-WbCluster and Test-WbLoadBalancer share: choosing checks by id, failing closed, and -Quiet.</summary>
public static class CheckRunner
{
    /// <summary>
    /// The checks among <paramref name="among"/> whose id matches one of <paramref name="patterns"/> (wildcards allowed;
    /// none means all), in catalog order. Patterns that match nothing are refused.
    /// </summary>
    /// <param name="what">What the checks are called in the refusal ("check", "load balancer check").</param>
    /// <param name="listed">How the refusal introduces the list of ids ("the checks are", "they are").</param>
    public static List<CheckDefinition> Select(IEnumerable<CheckDefinition> among, IReadOnlyList<string>? patterns, string what = "check", string listed = "the checks are")
    {
        var all = among.ToList();
        var wildcards = patterns?.Select(p => new Wildcard(p)).ToList();
        var selected = all.Where(c => Wildcard.AnyMatch(wildcards, c.Id)).ToList();
        if (wildcards is { Count: > 0 } && selected.Count == 0)
            throw new WbException("UnknownCheck", WbErrorCategory.InvalidArgument,
                $"-Check {string.Join(", ", patterns!)} matches no {what}; {listed} {string.Join(", ", all.Select(c => c.Id))}.", patterns);
        return selected;
    }

    /// <summary>
    /// A check's results, or, when it cannot be made (a file that cannot be read or parsed, the store unreachable), one
    /// Fail that says why: never a Pass, never a Skip, so an unverified cluster is never counted healthy.
    /// </summary>
    public static IReadOnlyList<CheckResult> FailClosed(CheckDefinition check, string target, string fix, Func<IEnumerable<CheckResult>> run)
    {
        try { return run().ToList(); }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            return [check.Unchecked(target, e.Message, fix)];
        }
    }

    /// <summary>Writes each result as it comes (none under -Quiet) and returns them all; under -Quiet then writes whether none failed.</summary>
    public static IReadOnlyList<CheckResult> Report(IEnumerable<CheckResult> results, bool quiet, Action<object> write)
    {
        var all = new List<CheckResult>();
        foreach (var r in results)
        {
            all.Add(r);
            if (!quiet) write(r);
        }
        return all;
    }

    /// <summary>-Quiet's one answer: true when no check failed.</summary>
    public static void WriteVerdict(IReadOnlyList<CheckResult> results, bool quiet, Action<object> write)
    {
        if (quiet) write(results.All(r => r.Status != CheckStatus.Fail));
    }
}
