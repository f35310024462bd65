using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Cluster;

namespace WorkbenchAdmin;

/// <summary>Remove-Module: close every pooled database connection the module opened.</summary>
public sealed class ModuleLifecycle : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => ClusterOperations.CloseAll();
}
