using System.Management.Automation;
using WorkbenchAdmin.Core.Commands.Cluster;

namespace WorkbenchAdmin;

/// <summary>
/// Import-Module: make the engine resolvable in the module's own load context. Remove-Module: close the
/// pooled database connections, but only when no other runspace of this process still has the module
/// imported: the data sources are per process and shared by every runspace.
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static int s_imports;

    public void OnImport()
    {
        DependencyIsolation.LoadModel();
        DependencyIsolation.Register();
        Interlocked.Increment(ref s_imports);
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        if (Interlocked.Decrement(ref s_imports) <= 0) CloseStores();
    }

    // A separate method, so the engine is only resolved when there is something to close.
    private static void CloseStores() => ClusterOperations.CloseAll();
}
