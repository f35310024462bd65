using System.Management.Automation;
using WorkbenchAdmin.Core.Commands;
using WorkbenchAdmin.Core.Logging;

namespace WorkbenchAdmin;

/// <summary>
/// Base of every cmdlet. Its public and protected surface names only PowerShell and WorkbenchAdmin.Model
/// types: PowerShell reflects over the cmdlet types before the module's initializer has made the engine
/// (WorkbenchAdmin.Core, loaded in the module's own context) resolvable. The engine is reached only from
/// method bodies, through <see cref="CmdletHost"/>.
/// </summary>
public abstract class WbCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Ctrl+C or PowerShell.Stop(): every wait in the engine watches this token.</summary>
    protected override void StopProcessing() => _stopping.Cancel();

    /// <summary>Runs one engine operation with this cmdlet as its host; a setup failure terminates with its ErrorRecord.</summary>
    private protected void Run(Action<ICommandHost> operation)
    {
        var host = new CmdletHost(this, _stopping.Token);
        try
        {
            using var _ = CommandLog.Attach(host);
            operation(host);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
        catch (WbException e) when (_stopping.IsCancellationRequested && e.InnerException is OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        catch (WbException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
    }

    /// <summary>A switch's value when the user gave it (-Switch or -Switch:$false), null when not given.</summary>
    protected bool? SwitchIfBound(string name, SwitchParameter value) =>
        MyInvocation.BoundParameters.ContainsKey(name) ? value.IsPresent : null;

    /// <summary>A path as the user sees it: relative to the current location, through PowerShell's provider, not the process directory.</summary>
    internal string? ResolvePath(string? path) => string.IsNullOrEmpty(path) ? path : GetUnresolvedProviderPathFromPSPath(path);

    internal static ErrorRecord ToErrorRecord(WbException e) =>
        new(e, e.ErrorId, (ErrorCategory)(int)e.Category, e.Target);
}

/// <summary>The engine's view of a running cmdlet: its streams, ShouldProcess and its stop signal.</summary>
internal sealed class CmdletHost(WbCmdlet cmdlet, CancellationToken cancellation) : ICommandHost
{
    public CancellationToken Cancellation => cancellation;
    public bool ShouldProcess(string target, string action) => cmdlet.ShouldProcess(target, action);
    public void WriteObject(object item) => cmdlet.WriteObject(item is BalancerPolicy policy ? WithOptions(policy) : item);

    /// <summary>The policy with each policy option as a property of its own (BalanceFactor, ...), as views and scripts read them.</summary>
    private static PSObject WithOptions(BalancerPolicy policy)
    {
        var shown = PSObject.AsPSObject(policy);
        foreach (var (name, value) in policy.Options) shown.Properties.Add(new PSNoteProperty(name, value));
        return shown;
    }
    public void WriteError(WbException error) => cmdlet.WriteError(WbCmdlet.ToErrorRecord(error));
    public void WriteWarning(string message) => cmdlet.WriteWarning(message);
    public void WriteVerbose(string message) => cmdlet.WriteVerbose(message);
    public void WriteDebug(string message) => cmdlet.WriteDebug(message);

    public void WriteProgress(string activity, string status, int percent) =>
        cmdlet.WriteProgress(new ProgressRecord(Math.Abs(activity.GetHashCode() % 10_000), activity, status)
        {
            PercentComplete = Math.Max(percent, -1),
            RecordType = percent < 0 ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        });
}
