using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Core.Verification;

namespace WorkbenchAdmin.Completion;

/// <summary>Shared shape of the completers: a core function gives the completions, this turns them into results.</summary>
public abstract class CoreCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<Core.Commands.Cluster.Completion> Complete(string wordToComplete, IDictionary fakeBoundParameters);

    protected static IEnumerable<Core.Commands.Cluster.Completion> Words(IEnumerable<string> words) =>
        words.Select(w => new Core.Commands.Cluster.Completion(w, w));

    /// <summary>Where the store is, from what the user has typed so far on the command line.</summary>
    protected static StoreRequest StoreOf(IDictionary bound) => new()
    {
        ConfigRoot = bound["ConfigRoot"] as string,
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
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => Words(BalancingMethods.Complete(word));
}

/// <summary>Completes -File with the configuration files present under the chosen root.</summary>
public sealed class ConfigFileCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) =>
        Words(ConfigFileNames.Complete(ConfigRoot.Resolve(bound["ConfigRoot"] as string), word));
}

/// <summary>Completes -Status with the node statuses.</summary>
public sealed class NodeStatusCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => Words(NodeStatuses.Complete(word));
}

/// <summary>Completes -Check with the check ids.</summary>
public sealed class CheckIdCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => Words(CheckCatalog.Complete(word));
}

/// <summary>Completes node ids from the cluster store, with each node's address and status as the tooltip.</summary>
public sealed class NodeIdCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => StoreCompletion.NodeIds(StoreOf(bound), word);
}

/// <summary>Completes node addresses (host:port) from the cluster store.</summary>
public sealed class NodeAddressCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => StoreCompletion.NodeAddresses(StoreOf(bound), word);
}

/// <summary>Completes the user names of active sessions from the cluster store.</summary>
public sealed class ActiveUserCompleter : CoreCompleter
{
    protected override IEnumerable<Core.Commands.Cluster.Completion> Complete(string word, IDictionary bound) => StoreCompletion.ActiveUsers(StoreOf(bound), word);
}
