
namespace WorkbenchAdmin.Core.Balancing.Custom;

public enum BalancerScriptFailure
{
    NotFound,
    NotExecutable,
    StartFailed,
    Timeout,
    NonZeroExit,
    EmptyOutput,
    MultipleLines,
    OutputTooLarge,
    UnknownNode,
    /// <summary>Someone other than root (or us) could change the script or a directory or link on its way.</summary>
    Unsafe,
}

/// <summary>A custom balancer script that broke its contract. Never a silent fallback: the decision fails.</summary>
public sealed class BalancerScriptException : WbException
{
    public BalancerScriptException(BalancerScriptFailure failure, string scriptPath, string message, Exception? inner = null)
        : base("BalancerScript" + failure, CategoryOf(failure), $"Balancer script '{scriptPath}': {message}", scriptPath, inner)
    {
        Failure = failure;
        ScriptPath = scriptPath;
    }

    public BalancerScriptFailure Failure { get; }
    public string ScriptPath { get; }

    private static WbErrorCategory CategoryOf(BalancerScriptFailure failure) => failure switch
    {
        BalancerScriptFailure.NotFound => WbErrorCategory.ObjectNotFound,
        BalancerScriptFailure.NotExecutable => WbErrorCategory.PermissionDenied,
        BalancerScriptFailure.StartFailed => WbErrorCategory.InvalidOperation,
        BalancerScriptFailure.Timeout => WbErrorCategory.OperationTimeout,
        BalancerScriptFailure.Unsafe => WbErrorCategory.SecurityError,
        _ => WbErrorCategory.InvalidResult,
    };
}
