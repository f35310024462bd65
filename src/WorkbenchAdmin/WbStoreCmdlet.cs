using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Cluster;
using WorkbenchAdmin.Core.Configuration;

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

    /// <summary>Fills the connection part of a request from the bound parameters.</summary>
    protected T Connect<T>(T request) where T : StoreRequest
    {
        request.ConfigRoot = ConfigRoot;
        request.ConnectionString = ConnectionString;
        if (Credential is not null)
        {
            request.CredentialUserName = Credential.UserName;
            request.CredentialPassword = new SecretValue(Credential.GetNetworkCredential().Password);
        }
        return request;
    }
}
