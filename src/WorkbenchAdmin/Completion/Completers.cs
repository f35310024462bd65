using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Completion;

/// <summary>
/// Shared shape of the completers: an engine function gives the completions, this turns them into results.
/// No engine type in any signature here (overrides are resolved when the type loads): PowerShell loads
/// these types at import, before the engine is resolvable.
/// </summary>
public abstract class CoreCompleter : IArgumentCompleter
{
    internal abstract IEnumerable<Model.Completion> Complete(string wordToComplete, IDictionary fakeBoundParameters);

    internal static IEnumerable<Model.Completion> Words(IEnumerable<string> words) =>
        words.Select(w => new Model.Completion(w, w));

    /// <summary>-ConfigRoot as typed so far, resolved against the current location as the cmdlet will resolve it.</summary>
    internal static string? ConfigRootOf(IDictionary bound)
    {
        if (bound["ConfigRoot"] is not string path || path.Length == 0) return null;
        // Completion runs while the prompt's pipeline is running: the session state is reached through a
        // nested pipeline on the current runspace, not through Runspace.DefaultRunspace.SessionStateProxy.
        try
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            var resolved = ps.AddScript("param($p) $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($p)")
                .AddArgument(path).Invoke<string>();
            return resolved.Count == 1 ? resolved[0] : path;
        }
        catch (Exception e) when (e is RuntimeException or InvalidOperationException or PSInvalidOperationException)
        {
            return path; // completion never fails: the path as typed is the best guess
        }
    }

    /// <summary>Where the store is, from what the user has typed so far on the command line.</summary>
    internal static StoreRequest StoreOf(IDictionary bound) => new()
    {
        ConfigRoot = ConfigRootOf(bound),
        ConnectionString = bound["ConnectionString"] as string,
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
                                                          CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        foreach (var c in Complete(word, fakeBoundParameters))
        {
            var quoted = c.Text.IndexOfAny([' ', '\'', '"', '$', '`', ',', ';']) >= 0 ? $"'{c.Text.Replace("'", "''")}'" : c.Text;
            yield return new CompletionResult(quoted, c.Text, CompletionResultType.ParameterValue, c.Tooltip);
        }
    }
}

/// <summary>Completes -Method with the balancing methods.</summary>
public sealed class BalancingMethodCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => Words(BalancingMethods.Complete(word));
}

/// <summary>Completes -Method of the decision cmdlets with every policy: Workbench's methods and the module's own.</summary>
public sealed class BalancingPolicyCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => Words(Core.Balancing.BalancingPolicies.Complete(word));
}

/// <summary>Completes a balancer program's -Method: every policy but custom (the program itself).</summary>
public sealed class ProgramPolicyCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) =>
        Words(Model.Completion.StartingWith(Core.Balancing.BalancingPolicies.ProgramMethods, word));
}

/// <summary>Completes -File with the configuration files present under the chosen root.</summary>
public sealed class ConfigFileCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) =>
        Words(ConfigFileNames.Complete(ConfigRoot.Resolve(ConfigRootOf(bound)), word));
}

/// <summary>Completes -Status with the node statuses.</summary>
public sealed class NodeStatusCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => Words(NodeStatuses.Complete(word));
}

/// <summary>Completes -Check with the check ids.</summary>
public sealed class CheckIdCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => Words(CheckCatalog.Complete(word));
}

/// <summary>Completes node ids from the cluster store, with each node's address and status as the tooltip.</summary>
public sealed class NodeIdCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => StoreCompletion.NodeIds(StoreOf(bound), word);
}

/// <summary>Completes node addresses (host:port) from the cluster store.</summary>
public sealed class NodeAddressCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => StoreCompletion.NodeAddresses(StoreOf(bound), word);
}

/// <summary>Completes the user names of active sessions from the cluster store.</summary>
public sealed class ActiveUserCompleter : CoreCompleter
{
    internal override IEnumerable<Model.Completion> Complete(string word, IDictionary bound) => StoreCompletion.ActiveUsers(StoreOf(bound), word);
}
