@{
    # In the source tree, a root script that says how to build; build.ps1 -Task Package stages this manifest
    # with WorkbenchAdmin.dll as the root (a script root costs 25 ms of every import). The views have the
    # same path in both, so the manifest is valid in both.
    RootModule           = 'module/WorkbenchAdmin.psm1'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    GUID                 = '5b0f6c1e-3d7a-4c52-9a0e-7f1d2b6c8e41'
    Author               = 'WorkbenchAdmin contributors'
    CompanyName          = 'WorkbenchAdmin'
    Copyright            = '(c) WorkbenchAdmin contributors. MIT License.'
    Description          = 'Administer load-balanced Posit Workbench clusters: read and safely edit /etc/rstudio, keep cluster state in PostgreSQL, make and explain balancing decisions (sessions, system-load, user-hash, custom) and verify a cluster against its installation guide.'
    FormatsToProcess     = @('module/WorkbenchAdmin.format.ps1xml')
    CmdletsToExport      = @(
        'Get-WbBalancer'
        'Get-WbBalancerPolicy'
        'Get-WbConfig'
        'Get-WbNode'
        'Get-WbSession'
        'Get-WbSessionLoad'
        'Initialize-WbDatabase'
        'Install-WbBalancer'
        'Invoke-WbBalanceDecision'
        'Measure-WbBalancer'
        'New-WbLoadBalancerConfig'
        'New-WbSession'
        'Protect-WbDatabasePassword'
        'Register-WbNode'
        'Remove-WbNode'
        'Remove-WbSession'
        'Reset-WbCluster'
        'Resume-WbNode'
        'Set-WbBalancer'
        'Set-WbBalancerPolicy'
        'Suspend-WbNode'
        'Test-WbBalancerScript'
        'Test-WbCluster'
        'Test-WbLoadBalancer'
        'Uninstall-WbBalancer'
        'Unregister-WbNode'
        'Update-WbNodeStatus'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Posit', 'Workbench', 'RStudio', 'LoadBalancing', 'Cluster', 'PostgreSQL', 'Linux', 'PSEdition_Core')
            LicenseUri   = 'https://example.invalid/WorkbenchAdmin/LICENSE'
            ProjectUri   = 'https://example.invalid/WorkbenchAdmin'
            ReleaseNotes = '0.1.0: configuration layer, balancing engine (sessions, system-load, user-hash, custom scripts), cluster store in PostgreSQL, cluster verification. See CHANGELOG.md.'
        }
    }
}
