using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin;

/// <summary>Base of the cmdlets that reach the cluster store: where the database is, and how to log in.</summary>
public abstract class WbStoreCmdlet : WbCmdlet
{
    /// <summary>The node's configuration directory; database.conf there says where the store is.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    /// <summary>A PostgreSQL connection string used instead of database.conf.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

}

/// <summary>
/// Fills the connection part of an engine request from a store cmdlet's bound parameters. An extension in
/// an internal class, not a member: a generic constraint naming an engine type on the cmdlet base would be
/// resolved when PowerShell loads the cmdlet types at import.
/// </summary>
internal static class StoreConnection
{
    public static T Connect<T>(this WbStoreCmdlet cmdlet, T request) where T : StoreRequest
    {
        request.ConfigRoot = cmdlet.ResolvePath(cmdlet.ConfigRoot);
        request.ConnectionString = cmdlet.ConnectionString;
        if (cmdlet.Credential is not null)
        {
            request.CredentialUserName = cmdlet.Credential.UserName;
            request.CredentialPassword = new SecretValue(cmdlet.Credential.GetNetworkCredential().Password);
        }
        return request;
    }
}
