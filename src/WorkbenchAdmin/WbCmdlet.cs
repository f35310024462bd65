using System.Management.Automation;
using WorkbenchAdmin.Core.Commands;
using WorkbenchAdmin.Core.Errors;
using WorkbenchAdmin.Core.Logging;

namespace WorkbenchAdmin;

/// <summary>
/// Base of every cmdlet: adapts the cmdlet to the core's <see cref="ICommandHost"/> and maps core errors
/// to ErrorRecords one to one (stable id, category, target). A WbException escaping an operation is a
/// setup failure and terminates; per-item errors arrive through <see cref="ICommandHost.WriteError"/>.
/// </summary>
public abstract class WbCmdlet : PSCmdlet, ICommandHost
{
    protected void Run(Action<ICommandHost> operation)
    {
        try
        {
            using var _ = CommandLog.Attach(this);
            operation(this);
        }
        catch (WbException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }
    }

    /// <summary>A switch's value when the user gave it (-Switch or -Switch:$false), null when not given.</summary>
    protected bool? SwitchIfBound(string name, SwitchParameter value) =>
        MyInvocation.BoundParameters.ContainsKey(name) ? value.IsPresent : null;

    internal static ErrorRecord ToErrorRecord(WbException e) =>
        new(e, e.ErrorId, (ErrorCategory)(int)e.Category, e.Target);

    bool ICommandHost.ShouldProcess(string target, string action) => ShouldProcess(target, action);
    void ICommandHost.WriteObject(object item) => WriteObject(item);
    void ICommandHost.WriteError(WbException error) => WriteError(ToErrorRecord(error));
    void ICommandHost.WriteWarning(string message) => WriteWarning(message);
    void ICommandHost.WriteVerbose(string message) => WriteVerbose(message);
    void ICommandHost.WriteDebug(string message) => WriteDebug(message);

    void ICommandHost.WriteProgress(string activity, string status, int percent) =>
        WriteProgress(new ProgressRecord(Math.Abs(activity.GetHashCode() % 10_000), activity, status)
        {
            PercentComplete = Math.Max(percent, -1),
            RecordType = percent < 0 ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        });
}
