using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Store;

/// <summary>How every store cmdlet reaches the database: a configuration root, or overrides.</summary>
/// <remarks>Settable, so the cmdlets' shared base can fill these on any derived request.</remarks>
public record StoreRequest
{
    public string? ConfigRoot { get; set; }
    public string? ConnectionString { get; set; }
    public string? CredentialUserName { get; set; }
    public SecretValue? CredentialPassword { get; set; }
    /// <summary>Seconds without a heartbeat after which a node counts as Offline.</summary>
    public double? OfflineAfterSec { get; set; }

    /// <summary>Printing shows the connection string without its password (derived requests print through this too).</summary>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"ConfigRoot = {ConfigRoot}, ConnectionString = {DatabaseTarget.Redact(ConnectionString)}, CredentialUserName = {CredentialUserName}, ");
        builder.Append($"CredentialPassword = {CredentialPassword}, OfflineAfterSec = {OfflineAfterSec}");
        return true;
    }

    internal DatabaseRequest Database => new()
    {
        ConfigRoot = ConfigRoot,
        ConnectionString = ConnectionString,
        UserName = CredentialUserName,
        Password = CredentialPassword,
    };

    internal TimeSpan OfflineAfter
    {
        get
        {
            if (OfflineAfterSec is not { } s) return ClusterStore.DefaultOfflineAfter;
            if (!double.IsFinite(s) || s <= 0)
                throw new WbException("InvalidOfflineAfter", WbErrorCategory.InvalidArgument, $"-OfflineAfterSec {s} must be more than 0.", s);
            return TimeSpan.FromSeconds(s);
        }
    }
}
