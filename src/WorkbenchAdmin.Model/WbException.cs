namespace WorkbenchAdmin.Model;

/// <summary>
/// Mirrors System.Management.Automation.ErrorCategory name for name and value for value (a contract
/// test checks this against the reference assembly), so the core can choose a category without
/// referencing PowerShell and the cmdlets convert with a plain cast.
/// </summary>
public enum WbErrorCategory
{
    NotSpecified = 0,
    OpenError = 1,
    CloseError = 2,
    InvalidArgument = 5,
    InvalidData = 6,
    InvalidOperation = 7,
    InvalidResult = 8,
    NotInstalled = 12,
    ObjectNotFound = 13,
    OperationStopped = 14,
    OperationTimeout = 15,
    ParserError = 17,
    PermissionDenied = 18,
    ResourceBusy = 19,
    ResourceExists = 20,
    ResourceUnavailable = 21,
    ReadError = 22,
    WriteError = 23,
    SecurityError = 25,
    ProtocolError = 26,
    ConnectionError = 27,
    AuthenticationError = 28,
    LimitsExceeded = 29,
    NotEnabled = 31,
}

/// <summary>
/// Every failure the core reports. <see cref="ErrorId"/> is stable (users match on it), the category
/// picks the PowerShell ErrorCategory, and <see cref="Target"/> becomes the ErrorRecord's target object.
/// </summary>
/// <summary>The error ids code branches on, named once (every other id is a literal at its one throw site).</summary>
public static class WbErrorIds
{
    public const string DatabaseSchemaOutdated = "DatabaseSchemaOutdated";
    public const string DatabaseConfigMissing = "DatabaseConfigMissing";
    public const string InvalidUserName = "InvalidUserName";
    public const string NoCandidateNode = "NoCandidateNode";
    public const string AllNodesFull = "AllNodesFull";
    public const string AllNodesDraining = "AllNodesDraining";
    public const string LoadBalancerKindUnknown = "LoadBalancerKindUnknown";
}

public class WbException : Exception
{
    public WbException(string errorId, WbErrorCategory category, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target;
    }

    public string ErrorId { get; }
    public WbErrorCategory Category { get; }
    public object? Target { get; }
}
