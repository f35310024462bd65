namespace WorkbenchAdmin.Core.Logging;

/// <summary>Where log lines go: a running command's debug, verbose and warning streams.</summary>
public interface ILogSink
{
    void WriteWarning(string message);
    void WriteVerbose(string message);
    void WriteDebug(string message) { }
}
