using WorkbenchAdmin.Core.Commands;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>Stands in for a cmdlet: records everything an operation writes and answers ShouldProcess as told.</summary>
public sealed class RecordingHost(bool confirm = true, CancellationToken cancellation = default) : ICommandHost, Core.Verification.IVerificationHost
{
    public CancellationToken Cancellation => cancellation;
    public List<object> Objects { get; } = [];
    public List<WbException> Errors { get; } = [];
    public List<string> Warnings { get; } = [];
    public List<string> Verbose { get; } = [];
    public List<string> Debug { get; } = [];

    public void WriteDebug(string message) => Debug.Add(message);
    public List<(string Target, string Action)> ShouldProcessCalls { get; } = [];
    public List<(string Status, int Percent)> Progress { get; } = [];

    public void WriteProgress(string activity, string status, int percent) => Progress.Add((status, percent));

    public bool ShouldProcess(string target, string action)
    {
        ShouldProcessCalls.Add((target, action));
        return confirm;
    }

    public void WriteObject(object item) => Objects.Add(item);
    public void WriteError(WbException error) => Errors.Add(error);
    public void WriteWarning(string message) { lock (Warnings) Warnings.Add(message); } // written from a command's own thread while a test reads
    public void WriteVerbose(string message) => Verbose.Add(message);

    public IEnumerable<T> ObjectsOf<T>() => Objects.OfType<T>();
}
