using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Cluster;

namespace WorkbenchAdmin;

/// <summary>Import-Module: isolate the dependencies. Remove-Module: close every pooled database connection.</summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport() => DependencyIsolation.Register();

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        CloseStores();
        DependencyIsolation.Unregister();
    }

    // A separate method, so the engine is only resolved when there is something to close.
    private static void CloseStores() => ClusterOperations.CloseAll();
}
