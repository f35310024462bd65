namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// The small program Workbench runs (src/WorkbenchAdmin.BalancerClient, C, linked statically) and the decider it
/// hands calls to. Install-WbBalancer puts the client at the custom balancer's path and the decider (this
/// module's <c>wbadmin-balancer</c>) beside it with <see cref="DeciderSuffix"/>; the decision service is the
/// decider run with <c>--serve</c>. The client asks the service; when it cannot use an answer, it execs the
/// decider, which decides as the program always has. Both keep Workbench's contract (<see cref="BalancerProgram"/>).
/// </summary>
public static class FastClient
{
    /// <summary>The client as the package ships it, in the module's bin directory.</summary>
    public const string FileName = "wbadmin-balancer-client";
    /// <summary>The decider's name beside the client: <c>rserver-balancer.decider</c>.</summary>
    public const string DeciderSuffix = ".decider";
    /// <summary>
    /// <c>--asked &lt;ms&gt; &lt;problem&gt;</c>: the client asked the service for &lt;ms&gt; and got no decision, for that
    /// reason. The decider reports it, does not ask again, and counts the time against the policy's deadline.
    /// </summary>
    public const string AskedArgument = "--asked";
    /// <summary>Marks the client's binary, as the decider's type names mark its own.</summary>
    public const string Marker = "wbadmin-balancer-client: WorkbenchAdmin's balancer program";

    /// <summary>The path Workbench runs (whose pointer file names the policy's root) for a program at <paramref name="processPath"/>.</summary>
    public static string ProgramPathOf(string processPath) =>
        processPath.EndsWith(DeciderSuffix, StringComparison.Ordinal) ? processPath[..^DeciderSuffix.Length] : processPath;

    /// <summary>What <c>--asked &lt;ms&gt; &lt;problem&gt;</c> says, or null when the arguments are not that.</summary>
    public static (TimeSpan Spent, string Problem)? ParseAsked(IReadOnlyList<string> args)
    {
        if (args is not [AskedArgument, var ms, var problem] || problem.Length == 0 ||
            !int.TryParse(ms, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var spent))
            return null;
        return (TimeSpan.FromMilliseconds(spent), problem);
    }
}
