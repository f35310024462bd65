#Requires -Modules Pester
<#
    The README's commands, typed from bash: build.ps1 takes its tasks comma-separated with or without
    spaces (bash passes "Package," and "Demo" as two words), and refuses an unknown task before doing
    anything. Runs from the repository's module/tests.
#>

BeforeAll {
    $script:build = Join-Path (Split-Path (Split-Path $PSScriptRoot -Parent) -Parent) 'build.ps1'

    # Runs build.ps1 the way bash does (pwsh -File, each word one argument); returns exit code and output.
    function Invoke-Build([string[]] $Argument) {
        $output = & pwsh -NoProfile -NonInteractive -File $build @Argument 2>&1
        # The error view wraps at the console's width: compare with white space folded.
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = (($output | Out-String) -replace '\s*\|\s*', ' ' -replace '\s+', ' ') }
    }
}

Describe 'build.ps1 from bash' -Tag 'Build' {
    It 'reads "-Task Package, Nope" as two tasks and refuses the unknown one before running any' {
        $r = Invoke-Build -Argument '-Task', 'Package,', 'Nope'
        $r.ExitCode | Should -Not -Be 0
        $r.Output | Should -Match "Unknown task 'Nope'"
        $r.Output | Should -Not -Match '==> Package'
    }

    It 'reads "-Task Package,Nope" (one word) as two tasks' {
        $r = Invoke-Build -Argument '-Task', 'Package,Nope'
        $r.Output | Should -Match "Unknown task 'Nope'"
    }

    It 'lists the known tasks when one is unknown' {
        (Invoke-Build -Argument '-Task', 'Deploy').Output | Should -Match 'Build, Test, Help, Package, Pester, Demo'
    }
}
