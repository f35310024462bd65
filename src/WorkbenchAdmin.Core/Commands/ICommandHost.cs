
using WorkbenchAdmin.Core.Logging;

namespace WorkbenchAdmin.Core.Commands;

/// <summary>
/// What an operation may do to the pipeline it runs in. The cmdlets implement it over their own
/// WriteObject/WriteError/ShouldProcess; tests implement it with a recorder. Operations never see a runspace.
/// </summary>
public interface ICommandHost : ILogSink
{
    /// <summary>PowerShell's ShouldProcess(target, action): false under -WhatIf or a declined -Confirm.</summary>
    bool ShouldProcess(string target, string action);
    void WriteObject(object item);
    /// <summary>A non-terminating error for one item; the operation carries on with the next.</summary>
    void WriteError(WbException error);
    /// <summary>Progress of a long operation; a percentage from 0 to 100, or -1 when finished.</summary>
    void WriteProgress(string activity, string status, int percent) { }
    /// <summary>Signalled when the user stops the command (Ctrl+C): the operation passes it to every wait.</summary>
    CancellationToken Cancellation => CancellationToken.None;
}
