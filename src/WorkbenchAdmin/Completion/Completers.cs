using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Completion;

/// <summary>Shared shape of the completers: a core function gives the words, this turns them into results.</summary>
public abstract class WordCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Complete(string wordToComplete, IDictionary fakeBoundParameters);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
                                                          CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        foreach (var text in Complete(word, fakeBoundParameters))
        {
            var quoted = text.IndexOfAny([' ', '\'', '"', '$', '`']) >= 0 ? $"'{text.Replace("'", "''")}'" : text;
            yield return new CompletionResult(quoted, text, CompletionResultType.ParameterValue, text);
        }
    }
}

/// <summary>Completes -Method with the balancing methods.</summary>
public sealed class BalancingMethodCompleter : WordCompleter
{
    protected override IEnumerable<string> Complete(string word, IDictionary bound) => BalancingMethods.Complete(word);
}

/// <summary>Completes -File with the configuration files present under the chosen root.</summary>
public sealed class ConfigFileCompleter : WordCompleter
{
    protected override IEnumerable<string> Complete(string word, IDictionary bound) =>
        ConfigFileNames.Complete(ConfigRoot.Resolve(bound["ConfigRoot"] as string), word);
}

/// <summary>Completes -Status with the node statuses.</summary>
public sealed class NodeStatusCompleter : WordCompleter
{
    protected override IEnumerable<string> Complete(string word, IDictionary bound) =>
        Core.Store.NodeStatuses.Complete(word);
}

/// <summary>Completes -Check with the check ids.</summary>
public sealed class CheckIdCompleter : WordCompleter
{
    protected override IEnumerable<string> Complete(string word, IDictionary bound) => Core.Verification.CheckCatalog.Complete(word);
}
