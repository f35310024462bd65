using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Cluster;

public sealed record ProtectPasswordRequest
{
    public string? ConfigRoot { get; init; }
    public required SecretValue Password { get; init; }
    public bool Apply { get; init; }
}

/// <summary>Protect-WbDatabasePassword.</summary>
public static class PasswordOperations
{
    /// <summary>
    /// Protect-WbDatabasePassword: encrypts with this node's secure-cookie-key; -Apply stores it as password= in
    /// the database config file rserver.conf names, and takes any password out of connection-uri (Workbench
    /// uses password= over the URI's, and the URI's would stay there in plain text).
    /// </summary>
    public static void ProtectPassword(ProtectPasswordRequest request, ICommandHost host)
    {
        var root = Configuration.ConfigRoot.Resolve(request.ConfigRoot);
        var rserver = RServerConfig.Load(root);
        var key = SecureCookieKey.Locate(root, rserver);
        if (key.Path is null)
            throw new WbException("SecureCookieKeyMissing", WbErrorCategory.ObjectNotFound,
                $"No secure-cookie-key to encrypt with (searched {string.Join(", ", key.Searched)}).", root.Path);
        var value = PasswordProtector.Protect(request.Password.Reveal(), SecureCookieKey.Read(key.Path));
        if (!request.Apply)
        {
            host.WriteObject(value);
            return;
        }
        var path = DatabaseConfig.PathOf(root, rserver.DatabaseConfigFile);
        var changes = new List<ConfigChange> { new(null, "password", value) };
        var action = "Set password (encrypted with the secure-cookie-key)";
        if (root.TryLoad(path, ConfigDialect.Database)?.GetValue(null, "connection-uri") is { } uri && PostgresConnectionUri.HasPassword(uri))
        {
            changes.Add(new ConfigChange(null, "connection-uri", PostgresConnectionUri.WithoutPassword(uri)));
            action += " and take the password out of connection-uri";
            if (PostgresConnectionUri.TryParse(uri)?.Password?.Reveal() is { } previous && previous != request.Password.Reveal())
                host.WriteWarning($"connection-uri in '{path}' held another password than the one given: from now on the one given is used.");
        }
        new ConfigEditor(root, cancel: host.Cancellation).Edit(path, changes, (target, _) => host.ShouldProcess(target, action));
    }
}
